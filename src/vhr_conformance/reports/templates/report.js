(function(){
  var boxes=document.querySelectorAll('.filters input[type=checkbox]');
  var q=document.getElementById('q');
  function apply(){
    var on={};boxes.forEach(function(b){on[b.value]=b.checked;});
    var text=(q.value||'').toLowerCase();
    document.querySelectorAll('details.crit').forEach(function(d){
      var ok=on[d.dataset.state]&&on[d.dataset.level]&&(!text||d.textContent.toLowerCase().indexOf(text)>=0);
      d.classList.toggle('hidden',!ok);
    });
    document.querySelectorAll('section.area').forEach(function(s){
      s.classList.toggle('hidden',s.querySelectorAll('details.crit:not(.hidden)').length===0);
    });
    var n=document.querySelectorAll('details.crit:not(.hidden)').length;
    document.getElementById('shown').textContent=n;
  }
  boxes.forEach(function(b){b.addEventListener('change',apply);});q.addEventListener('input',apply);apply();
  // printed from a browser: a failure the reader collapsed still prints open, with its evidence
  window.addEventListener('beforeprint',function(){
    document.querySelectorAll('details.crit[data-state=fail],details.crit[data-state=error]').forEach(function(d){d.open=true;});
  });
  // a link to evidence opens the criterion that holds it
  window.addEventListener('hashchange',function(){
    var el=document.getElementById(location.hash.slice(1));var d=el&&el.closest('details');if(d){d.open=true;el.scrollIntoView();}
  });
})();
